"""Diagnostics only, never part of the suite: relaxes tempest's response schemas for the two
view bugs that stop most tests at their first volume or type (docs/tempest.md, F1 and F2), so
that a run shows what fails behind them.

    PYTHONPATH=tests/tempest/relaxed /usr/bin/python3 tests/support/keystone_server.py run -- \
      /usr/bin/python3 tests/tempest/run_tempest.py

Python imports `sitecustomize` at start-up from PYTHONPATH, in tempest and in each stestr
worker, before any tempest client copies these schemas. Delete a line here once its fix lands.
"""
try:
    from tempest.lib.api_schema.response.volume import volume_types, volumes

    for schema in (volumes.create_volume, volumes.update_volume):  # F1
        props = schema["response_body"]["properties"]["volume"]["properties"]
        for key in ("os-vol-tenant-attr:tenant_id", "os-vol-host-attr:host",
                    "os-vol-mig-status-attr:migstat", "os-vol-mig-status-attr:name_id"):
            props[key] = {"type": ["string", "null"]}
    props = volume_types.create_volume_type["response_body"]["properties"]["volume_type"]
    props["properties"]["qos_specs_id"] = {"type": ["string", "null"]}  # F2
except ImportError:  # another Python program on this PYTHONPATH: nothing to relax
    pass
