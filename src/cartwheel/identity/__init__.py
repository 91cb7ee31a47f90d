"""Making identity decisions visible and reversible: recorded merges (and their undo) and
identifier conflicts. The decisions themselves are taken in cartwheel.identity.resolver."""
