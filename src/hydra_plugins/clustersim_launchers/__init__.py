"""clustersim's Hydra launchers: ``serial`` and ``cores``.

Hydra finds them under the ``hydra_plugins`` namespace package. They are Hydra's basic
launcher and the joblib launcher, running each job without the copies Hydra makes per
job (``clustersim.sweep.launch``); their settings are those of the launchers they follow
(``conf/hydra/launcher/serial.yaml``, ``cores.yaml``).
"""
