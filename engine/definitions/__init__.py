"""Process definitions: reading and validating a BPMN bundle, its forms, versions, diff and migration of running cases."""
