"""Compose each job's config from one composition per set of config groups, per process.

Hydra composes every job of a sweep from scratch: it reads and parses every YAML file of
the defaults list, wraps them in OmegaConf nodes and merges them (0.3-1 s with our policy
trees), then applies the job's value overrides. The jobs of a sweep mostly differ only
in values (``seed=3``, ``behavior.entry.but_for_share=0.4``); the part that depends on
the files and the config groups (``policy=huangpu_2024``) is the same for many of them.

``ReusingConfigLoader`` is Hydra's own config loader with one change: the composition
of the defaults list for a given set of group overrides is kept (per process, a few at
a time, and on disk between processes: ``clustersim.sweep.composition_store``), and each
job gets a copy (unpickled: ~20 ms, where a deep copy of the OmegaConf nodes took
0.1-0.3 s) with its value overrides applied by Hydra's own function, and Hydra's
bookkeeping (``hydra.overrides``, ``hydra.job.override_dirname``)
set as Hydra sets it. Hydra's split of the overrides into group and value overrides
(``hydra._internal.defaults_list.Overrides``) decides what is shared, so the result is
the config Hydra would compose (``tests/test_sweep_compose.py`` compares them). Anything
unusual (a ``hydra.searchpath`` or ``hydra.job.env_*`` override) goes through Hydra
unchanged. A config file edited while a process runs is noticed: the in-process key
includes the config files' sizes and modification times, the store's their content.

The sweepers hand it to the launcher (``reuse_compositions``), so a worker process that
runs many jobs composes once per policy; ``clustersim-run`` also uses it for its own
process, where Hydra composes the same config twice (once to find the run mode).
Hydra 1.3's loader is what this subclasses; another Hydra version gets Hydra's own.
"""

from __future__ import annotations

import os
import sys
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from hydra._internal.config_loader_impl import ConfigLoaderImpl, get_overrides_dirname
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import ConfigCompositionException
from hydra.types import HydraContext, RunMode
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from clustersim.sweep import composition_store as store

#: Compositions kept per process (each ~0.2 MB pickled).
KEEP = 16
_CACHE: OrderedDict[tuple[Any, ...], store.Kept] = OrderedDict()
#: Override keys whose effect reaches beyond the composed nodes, or that Hydra sets
#: itself after applying the overrides: left to Hydra.
_UNUSUAL = (
    "hydra.searchpath",
    "hydra.job.env_set",
    "hydra.job.env_copy",
    "hydra.job.config_name",
    "hydra.job.override_dirname",
    "hydra.overrides",
    "hydra.runtime",
)


def _files_stamp(sources: Sequence[Any]) -> tuple[Any, ...]:
    """Sizes and modification times of the config files of ``sources`` (Hydra's)."""
    stamp = []
    for source in sources:
        if source.scheme() != "file":
            continue
        for root, _dirs, files in os.walk(source.path):
            for name in sorted(files):
                path = os.path.join(root, name)
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                stamp.append((path, st.st_size, st.st_mtime_ns))
    return tuple(sorted(stamp))


class ReusingConfigLoader(ConfigLoaderImpl):
    """Hydra's config loader, reusing the composition of a set of config groups."""

    #: The config composed last, with what makes a copy of it (``task_copy``).
    _last_composed: tuple[DictConfig, store.Kept, list[Any]] | None = None

    def _load_configuration_impl(
        self,
        config_name: str | None,
        overrides: list[str],
        run_mode: RunMode,
        from_shell: bool = True,
        validate_sweep_overrides: bool = True,
    ) -> DictConfig:
        return self._compose_job(
            config_name, overrides, run_mode, from_shell, validate_sweep_overrides
        )[0]

    def task_copy(self, config: DictConfig) -> DictConfig | None:
        """A second copy of ``config``, the config this loader composed last, for its task.

        What ``load_sweep_job`` gives a sweep's job, for a single run (``Hydra.run``
        composes the config, then its ``run_job`` deep-copies it: ~0.07 s): another
        unpickling of the composition with the same values applied (~20 ms). None for any
        other config, or one Hydra composed itself (``_UNUSUAL``).
        """
        last = self._last_composed
        if last is None or last[0] is not config:
            return None
        _, kept, values = last
        twin = kept.fresh()
        ConfigLoaderImpl._apply_overrides_to_config(values, twin)
        OmegaConf.copy_cache(from_config=config, to_config=twin)
        return twin

    def load_sweep_job(
        self, master_config: DictConfig, sweep_overrides: list[str]
    ) -> tuple[DictConfig, DictConfig | None]:
        """Hydra's ``load_sweep_config``, and a second copy of the job's config for its task.

        Hydra's ``run_job`` deep-copies the job's config to hand the task its own copy
        (without the ``hydra`` node): 0.05-0.1 s with our policy trees. The second copy
        made here is another unpickling of the same composition with the same values
        applied (~20 ms), equal to that deep copy (``clustersim.sweep.launch.run_job``
        uses it). It is None where Hydra composed the config itself (``_UNUSUAL``).
        """
        hydra_overrides = OmegaConf.to_container(master_config.hydra.overrides.hydra)
        assert isinstance(hydra_overrides, list)
        try:
            config, twin = self._compose_job(
                master_config.hydra.job.config_name,
                [*hydra_overrides, *sweep_overrides],
                RunMode.RUN,
                twin=True,
            )
        except OmegaConfBaseException as err:  # as Hydra's load_configuration reports it
            raise ConfigCompositionException().with_traceback(sys.exc_info()[2]) from err
        # as Hydra's load_sweep_config: the same resolved values (timestamps) as the sweep's
        OmegaConf.copy_cache(from_config=master_config, to_config=config)
        if twin is not None:
            OmegaConf.copy_cache(from_config=master_config, to_config=twin)
        return config, twin

    def _compose_job(
        self,
        config_name: str | None,
        overrides: list[str],
        run_mode: RunMode,
        from_shell: bool = True,
        validate_sweep_overrides: bool = True,
        twin: bool = False,
    ) -> tuple[DictConfig, DictConfig | None]:
        """The config Hydra would compose, and with ``twin`` a second, equal copy of it."""
        from hydra._internal.defaults_list import Overrides

        parsed = OverridesParser.create().parse_overrides(overrides=overrides)
        # (a sweep override, ``seed=0,1``, is neither composed nor applied: Hydra only
        # records it; it stays in the key, so the two compositions of a multirun's own
        # config share one)
        unusual = any(o.get_key_element().lstrip("+~").startswith(_UNUSUAL) for o in parsed)
        if unusual:
            cfg = super()._load_configuration_impl(
                config_name, overrides, run_mode, from_shell, validate_sweep_overrides
            )
            return cfg, None
        if validate_sweep_overrides:
            self.validate_sweep_overrides_legal(
                overrides=parsed, run_mode=run_mode, from_shell=from_shell
            )
        repo = self._repository(config_name)
        values = Overrides(repo, parsed).config_overrides
        shared = [o.input_line for o in parsed if not any(o is v for v in values)]
        kept = self._composition(config_name, shared, run_mode, from_shell, repo)
        cfg = kept.fresh()
        # what Hydra's _load_configuration_impl does after composing the defaults list
        ConfigLoaderImpl._apply_overrides_to_config(values, cfg)
        second = None
        if twin:
            second = kept.fresh()
            ConfigLoaderImpl._apply_overrides_to_config(values, second)
        self._last_composed = (cfg, kept, values)
        cfg.hydra.overrides.hydra = []
        cfg.hydra.overrides.task = []
        app_overrides = []
        for override in parsed:
            if override.is_hydra_override():
                cfg.hydra.overrides.hydra.append(override.input_line)
            else:
                cfg.hydra.overrides.task.append(override.input_line)
                app_overrides.append(override)
        with open_dict(cfg.hydra):
            for env_key in cfg.hydra.job.env_copy:
                cfg.hydra.job.env_set[env_key] = os.environ[env_key]
        dirname = cfg.hydra.job.config.override_dirname
        cfg.hydra.job.override_dirname = get_overrides_dirname(
            overrides=app_overrides,
            kv_sep=dirname.kv_sep,
            item_sep=dirname.item_sep,
            exclude_keys=dirname.exclude_keys,
        )
        return cfg, second

    def _repository(self, config_name: str | None) -> Any:
        """Hydra's caching config repository for ``config_name``, made once per loader.

        Hydra makes one per composition (a deep copy of the search path's sources and a
        parse of the primary config: ~30 ms); here it only answers which overrides name
        config groups and which sources there are, so one serves every job until a config
        file changes. (Its only input from the overrides, ``hydra.searchpath``, goes
        through Hydra unchanged: ``_UNUSUAL``.)
        """
        key = (config_name, _files_stamp(self.get_sources()))
        kept = getattr(self, "_kept_repository", None)
        if kept is None or kept[0] != key:
            _, repo = self._parse_overrides_and_create_caching_repo(config_name, [])
            kept = self._kept_repository = (key, repo)
        return kept[1]

    def _composition(
        self,
        config_name: str | None,
        shared: list[str],
        run_mode: RunMode,
        from_shell: bool,
        repo: Any,
    ) -> store.Kept:
        """The composition of ``shared`` (``.fresh()`` gives a copy of it).

        Kept in this process, else kept on disk (``composition_store``), else composed by
        Hydra (and then kept in both).
        """
        sources = repo.get_sources()
        key = (config_name, tuple(shared), from_shell, os.getcwd(), _files_stamp(sources))
        kept = _CACHE.get(key)
        # the run mode only changes a composition that has a missing (???) group choice
        # (a multirun skips it); reuse across modes only when nothing was missing
        if kept is None or not kept.usable_in(run_mode):
            stored_key = store.composition_key(config_name, shared, from_shell, sources)
            kept = store.load(stored_key)
            if kept is None or not kept.usable_in(run_mode):
                base = super()._load_configuration_impl(
                    config_name, shared, run_mode, from_shell, validate_sweep_overrides=False
                )
                kept = store.Kept.of(base, run_mode, _missing_choice(base))
                store.save(stored_key, kept)
            _CACHE[key] = kept
            while len(_CACHE) > KEEP:
                _CACHE.popitem(last=False)
        _CACHE.move_to_end(key)
        return kept


def _missing_choice(cfg: DictConfig) -> bool:
    choices = cfg.hydra.runtime.choices
    return any(OmegaConf.is_missing(choices, k) or choices[k] == "???" for k in choices)


def reuse_compositions(context: HydraContext) -> HydraContext:
    """``context`` with a ``ReusingConfigLoader`` in place of Hydra's 1.3 loader."""
    loader = context.config_loader
    if type(loader) is not ConfigLoaderImpl:  # already ours, or someone else's
        return context
    reusing = ReusingConfigLoader(config_search_path=loader.get_search_path())
    return HydraContext(config_loader=reusing, callbacks=context.callbacks)


def setup_launcher(
    sweeper: Any, hydra_context: HydraContext, task_function: Any, config: Any
) -> None:
    """A sweeper's ``setup``, shared by the qmc and sensitivity sweepers.

    Keeps the context (composing through ``reuse_compositions``) and the config, and
    instantiates the configured launcher, as Hydra's BasicSweeper does.
    """
    from hydra.core.plugins import Plugins

    sweeper.hydra_context = reuse_compositions(hydra_context)
    sweeper.config = config
    sweeper.launcher = Plugins.instance().instantiate_launcher(
        hydra_context=sweeper.hydra_context, task_function=task_function, config=config
    )


_LOADERS: dict[str, ReusingConfigLoader] = {}


def loader_for(conf: str) -> ReusingConfigLoader:
    """This process's reusing loader for the config folder ``conf`` (one per folder).

    What ``clustersim.api.compose`` and the tests compose with, outside a Hydra app: each
    keeps the compositions of a few sets of config groups, so scenarios that differ only
    in values (seeds, parameters) compose their groups once.
    """
    if conf not in _LOADERS:
        from hydra._internal.utils import create_config_search_path

        _LOADERS[conf] = ReusingConfigLoader(config_search_path=create_config_search_path(conf))
    return _LOADERS[conf]


def clear() -> None:
    """Forget every kept composition (tests)."""
    _CACHE.clear()


__all__ = ["ReusingConfigLoader", "clear", "loader_for", "reuse_compositions", "setup_launcher"]
