"""Everything that knows SQL: tables, the engine factory, the unit of work, migrations."""
