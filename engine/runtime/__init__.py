"""Running the model: the helpers a model may call, the sandbox its expressions run in, the stored workflow state."""
