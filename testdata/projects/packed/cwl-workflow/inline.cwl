cwlVersion: v1.2
$graph:
- class: Workflow
  id: main
  inputs:
    text: string
  outputs:
    a: {type: File, outputSource: shout/out}
    b: {type: File, outputSource: shout-again/out}
    c: {type: File, outputSource: reverse/out}
    d: {type: File, outputSource: named/out}
    e: {type: File, outputSource: external/out}
  steps:
    shout:
      run: &shout
        class: CommandLineTool
        hints:
          DockerRequirement:
            dockerPull: localhost:5000/packed/upper:latest
        baseCommand: upper
        inputs:
          text: {type: string, inputBinding: {position: 1}}
        outputs:
          out: stdout
      in: {text: text}
      out: [out]
    shout-again:
      run: *shout
      in: {text: text}
      out: [out]
    reverse:
      run:
        class: CommandLineTool
        requirements:
        - class: DockerRequirement
          dockerPull: "localhost:5000/packed/rev"
        baseCommand: rev
        inputs:
          text: {type: string, inputBinding: {position: 1}}
        outputs:
          out: stdout
      in: {text: text}
      out: [out]
    named:
      run: '#upper'
      in: {text: text}
      out: [out]
    external:
      run:
        class: CommandLineTool
        hints:
          DockerRequirement:
            dockerPull: docker.io/library/busybox:1.36@sha256:7b3ccabffc97de872a30dfd234fd972a66d247c8cfc69b0550f276481852627c
        baseCommand: echo
        inputs:
          text: {type: string, inputBinding: {position: 1}}
        outputs:
          out: stdout
      in: {text: text}
      out: [out]
- class: CommandLineTool
  id: upper
  hints:
    DockerRequirement:
      dockerPull: localhost:5000/packed/upper:0.0.1
  baseCommand: upper
  inputs:
    text: {type: string, inputBinding: {position: 1}}
  outputs:
    out: stdout
