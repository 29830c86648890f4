# Macros for BUILD files (pants.toml: build_file_prelude_globs).


def app_pex(app, description, spark_inside=False, **kwargs):
    """An app's PEX: `apps.entry:<app>`, unpacked into a venv on first run (Alembic reads
    its migration scripts from disk). Thin by default: pyspark (~450 MB) is not packed; on a
    cluster it comes from the Spark installation, locally from the environment
    (PEX_INHERIT_PATH=fallback). `spark_inside`: the fat variant, pyspark packed, for a
    machine with Python and Java but no Spark installation (local mode only).

    apps.entry makes Ctrl-C during start one line and exit 130 (the app is imported by
    name, so the PEX depends on ./main.py explicitly)."""
    dependencies = ["src/apps/entry.py", "./main.py:lib"]
    if not spark_inside:
        dependencies.insert(0, "!!//3rdparty/python:reqs#pyspark")
        kwargs["inherit_path"] = "fallback"
    pex_binary(  # noqa: F821 (a Pants BUILD symbol)
        name=app + ("-fat" if spark_inside else ""),
        entry_point="apps.entry:" + app,
        execution_mode="venv",
        dependencies=dependencies,
        description=description,
        **kwargs,
    )
