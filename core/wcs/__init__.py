"""World-coordinate building blocks shared by the instrument plugins (gwcs models)."""
