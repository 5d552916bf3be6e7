"""innatura package."""
