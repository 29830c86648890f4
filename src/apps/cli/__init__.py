"""The command-line toolkit every app shares: one error handler, parameter types, output.

An app builds its command group with :class:`AppGroup` and gets, for free: exit codes
(0 ok, 1 a check failed or the command could not finish, 2 bad input, 130 interrupted),
every failure as one line on stderr, ``--json`` and ``--url`` options, bounded and
decoded input files, tables and progress bars.
"""
