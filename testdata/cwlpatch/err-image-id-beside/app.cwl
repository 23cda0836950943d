cwlVersion: v1.2
class: CommandLineTool
id: hello
baseCommand: echo
inputs: []
outputs: []
requirements:
  DockerRequirement:
    dockerPull: localhost:5000/pkg/hello:1.0
    dockerImageId: docker.io/attacker/evil:latest
