"""The model's submodels, one module each; every rule acts on whole agent tables.

The monthly schedule (``ClusterModel.step``) calls them in this order: rents, entry,
growth, innovation, relocation, exit, labour market; then the incentives grant. The ODD
document (``docs/ODD.md``) names each submodel and the function that implements it.
"""
