"""Data folder, shipped as a package so `lapor` finds it wherever it is installed."""
