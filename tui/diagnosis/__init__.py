"""The decision tree as data, the fix catalog, and the engine that walks them."""
