"""The bundled presets, shipped inside the package as `workbench._presets` (see setup.py)."""
