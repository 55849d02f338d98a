"""Making outside text safe to show, and values safe to put into a command.

The bottom layer: nothing here imports the rest of sqlreach, so every renderer, screen and
command below or above can use it.
"""
