"""OpenTelemetry for sff (the ``[otel]`` extra): one span per invocation, one per attempt.

Loaded only through `sff.tracing` when tracing is on; nothing here is on the path of an
untraced invocation. `setup` builds the provider and exporter from the standard
``OTEL_*`` variables, `platform` reads what the FaaS platform says about itself, and
`spans` opens the spans with the semantic conventions' attributes.
"""
