cwlVersion: v1.2
# Checks a CWL application package with cwlbuild, in the cwlbuild CI image.
# The dockerPull value is pinned by cwlpatch after each build.
$namespaces:
  s: https://schema.org/
s:softwareVersion: 0.1.0

$graph:
  - class: Workflow
    id: check-package
    label: Check an application package
    doc: Runs cwlbuild check --strict on an application package (project.toml, its contexts and CWL files).
    inputs:
      package:
        type: Directory
        label: Package
        doc: the application package's directory, holding project.toml
    outputs:
      report:
        type: File
        outputSource: check/report
    steps:
      check:
        run: "#cwlbuild-ci"
        in:
          package: package
        out: [report]

  - class: CommandLineTool
    id: cwlbuild-ci
    requirements:
      DockerRequirement:
        dockerPull: ghcr.io/eoap/cwlbuild-ci:latest
    baseCommand: [/kaniko/cwlbuild, check, --strict, --format, json]
    arguments:
      - prefix: -f
        valueFrom: $(inputs.package.path)/project.toml
    inputs:
      package:
        type: Directory
    stdout: report.json
    outputs:
      report:
        type: stdout
