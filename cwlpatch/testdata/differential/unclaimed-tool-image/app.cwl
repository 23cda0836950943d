$namespaces:
    x: https://w3id.org/cwl/cwl#
    s: https://schema.org/
cwlVersion: v1.2
$graph:
    - class: Workflow
      id: main
      label: workflow main
      inputs: []
      outputs: []
      requirements:
        - class: SubworkflowFeatureRequirement
      steps:
        s0:
            run: '#tool0'
            in: []
            out: []
        s1:
            run: '#tool0b'
            in: []
            out: []
    - class: CommandLineTool
      id: tool0
      label: p0
      baseCommand: echo
      inputs: []
      outputs: []
      hints:
        DockerRequirement:
            dockerPull: localhost:5000/gen/t0:dev
        InlineJavascriptRequirement: {}
    - class: CommandLineTool
      id: tool0b
      label: p1
      baseCommand: echo
      inputs: []
      outputs: []
      hints:
        https://w3id.org/cwl/cwl#DockerRequirement:
            dockerPull: docker.io/library/alpine@sha256:a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1
        InlineJavascriptRequirement: {}
      requirements:
        x:DockerRequirement:
            dockerPull: localhost:5000/gen/t0@sha256:0000000000000000000000000000000000000000000000000000000000000000
