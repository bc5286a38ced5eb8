"""The sections of a report, each pairing its tables, its figures and its words.

A section module computes its numbers (pure functions over the sweep's frames), draws its
figures from those numbers, and puts both into a ``document.Section`` with the words that
explain them: ``overview``, then 1 ``headline``, 2 ``trajectories``, 3 ``differences``,
4 ``additionality`` (with ``costs``, ``relocation`` and ``instruments``), 5 ``parks``,
6 ``spending``, 7 ``assumptions``; for a sweep made with a sensitivity design, 8 and 9
``sensitivity`` (which assumptions matter, and under which the verdict changes).
"""
