{
    "$graph": [
        {
            "class": "CommandLineTool",
            "doc": "Reverses its input; no id, so cwltool --pack names its copy after this file.",
            "hints": [
                {
                    "dockerPull": "localhost:5000/packed/rev:0.0.1",
                    "class": "DockerRequirement"
                }
            ],
            "baseCommand": "rev",
            "stdout": "rev.txt",
            "inputs": [
                {
                    "type": "string",
                    "inputBinding": {
                        "position": 1
                    },
                    "id": "#rev.cwl/text"
                }
            ],
            "id": "#rev.cwl",
            "outputs": [
                {
                    "type": "File",
                    "id": "#rev.cwl/out",
                    "outputBinding": {
                        "glob": "rev.txt"
                    }
                }
            ]
        },
        {
            "class": "Workflow",
            "doc": "The source of packed.cwl.",
            "inputs": [
                {
                    "type": "string",
                    "id": "#main/text"
                }
            ],
            "outputs": [
                {
                    "type": "File",
                    "outputSource": "#main/reverse/out",
                    "id": "#main/out"
                }
            ],
            "steps": [
                {
                    "run": "#rev.cwl",
                    "in": [
                        {
                            "source": "#main/text",
                            "id": "#main/reverse/text"
                        }
                    ],
                    "out": [
                        "#main/reverse/out"
                    ],
                    "id": "#main/reverse"
                }
            ],
            "id": "#main"
        }
    ],
    "cwlVersion": "v1.2"
}
