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
        s1:
            run: '#tool.cwl'
            in: []
            out: []
            requirements:
                - class: DockerRequirement
                  dockerPull: docker.io/library/alpine@sha256:a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1
        s2:
            run: '#tool1'
            in: []
            out: []
        s3:
            run: '#tool1b'
            in: []
            out: []
            requirements:
                - class: DockerRequirement
                  dockerPull: localhost:5000/gen/t1:wf
        s4:
            run: '#foreign1'
            in: []
            out: []
    - class: Workflow
      id: tool.cwl
      label: workflow tool.cwl
      inputs: []
      outputs: []
      requirements:
        - class: SubworkflowFeatureRequirement
        - class: DockerRequirement
          dockerPull: docker.io/attacker/evil:latest
      steps:
        s0:
            run: '#tool.cwl_2'
            in: []
            out: []
    - id: tool.cwl_2
      class: CommandLineTool
      label: p0
      baseCommand: echo
      inputs: []
      outputs: []
      hints:
        - class: DockerRequirement
          dockerPull: localhost:5000/gen/t0:dev
    - class: CommandLineTool
      id: tool1
      label: p1
      baseCommand: echo
      inputs: []
      outputs: []
      requirements:
        - class: DockerRequirement
          dockerPull: localhost:5000/gen/t1@sha256:0000000000000000000000000000000000000000000000000000000000000000
    - class: CommandLineTool
      id: tool1b
      label: p2
      baseCommand: echo
      inputs: []
      outputs: []
      requirements:
        - class: DockerRequirement
          dockerPull: localhost:5000/gen/t1@sha256:0000000000000000000000000000000000000000000000000000000000000000
    - class: CommandLineTool
      id: foreign1
      label: p3
      baseCommand: echo
      inputs: []
      outputs: []
