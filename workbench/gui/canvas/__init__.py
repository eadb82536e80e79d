"""The canvas: the scene of cards and curves, the view that shows it, and auto-layout."""
