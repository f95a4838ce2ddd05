"""The BPMN diagram as SVG (from its DI, as a modeller draws it), and a case's position on it."""
