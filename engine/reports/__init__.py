"""Reading many cases at once: SLA reports, exports, registers, and the heatmap of a process version.

Everything here is read from what the engine already writes (the case rows, the open-task index and the
hash-chained audit events); reports record nothing new and never deserialize a workflow. ``filters`` picks the
cases, ``model`` reads a version's deadlines and nodes, ``facts`` measures each case's steps; ``sla``,
``records`` and ``heatmap`` are built on them.
"""
