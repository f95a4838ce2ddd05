"""Time: the injectable clock, the province's working days, and reading a workflow's timers."""
