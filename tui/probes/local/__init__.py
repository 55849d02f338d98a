"""The machine itself: client aliases, and on the server its services, ports, firewall and logs."""
