"""Reading the event log. Every read of events goes through :mod:`.queries`, so a later
move of analytics to another store touches one module."""
