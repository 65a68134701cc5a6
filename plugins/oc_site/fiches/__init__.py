"""The territory fiches: one handler for the four levels (routes.py), the data of their charts and maps, the notices."""
