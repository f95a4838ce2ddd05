"""Reading many cases at once: SLA reports, exports, registers, and the heatmap of a process version."""
