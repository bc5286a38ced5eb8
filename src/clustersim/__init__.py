"""clustersim: an agent-based simulation of Shanghai's FinTech cluster under public incentives.

Data flows one way: config -> world -> monthly steps -> recorded outcomes -> collected
tables -> report. See ``docs/ODD.md`` for the model description.
"""

__version__ = "0.1.0"
