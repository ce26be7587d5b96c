"""The staff panel (Flask app factory, auth, views, export): built in the panel issue."""
