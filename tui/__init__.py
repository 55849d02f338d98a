"""sqlreach: from 'actively refused' to the root cause and the exact fix.

Kept free of imports so that `import tui.target` stays light and Textual-free.
"""

__version__ = "0.1.0"
