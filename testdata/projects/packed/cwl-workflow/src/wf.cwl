cwlVersion: v1.2
class: Workflow
doc: The source of packed.cwl.
inputs:
  text: string
outputs:
  out: {type: File, outputSource: reverse/out}
steps:
  reverse:
    run: ../../command-line-tools/rev/rev.cwl
    in: {text: text}
    out: [out]
