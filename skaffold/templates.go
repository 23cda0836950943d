package skaffold

import (
	"reflect"
	"strings"

	"github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/schema/latest"
)

// templateLiteral escapes a value for a field Skaffold evaluates as a Go
// template: "{{" becomes {{"{{"}}, so the field evaluates to the value
// itself and a value from the package can never run {{cmd ...}} or read
// {{.SECRET}}.
func templateLiteral(v string) string {
	return strings.ReplaceAll(v, "{{", `{{"{{"}}`)
}

// templatedFields are the fields of the types this package renders that
// Skaffold v2.24 evaluates as Go templates with the environment: the build
// args, labels and env of artifacts (util.EvaluateEnvTemplateMap,
// MapToFlag), docker's cliFlags (docker/image.go), the custom builder's
// command (custom/script.go) and the taggers' templates. Fields Skaffold
// tags `skaffold:"template"` are added to these by escapeTemplates itself.
var templatedFields = map[reflect.Type][]string{
	reflect.TypeFor[latest.DockerArtifact]():       {"BuildArgs", "CliFlags"},
	reflect.TypeFor[latest.KanikoArtifact]():       {"BuildArgs", "Label", "Env"},
	reflect.TypeFor[latest.CustomArtifact]():       {"BuildCommand"},
	reflect.TypeFor[latest.EnvTemplateTagger]():    {"Template"},
	reflect.TypeFor[latest.CustomTemplateTagger](): {"Template"},
}

// escapeTemplates is the one place a rendered config's strings become
// template literals: every string under a field Skaffold evaluates (see
// templatedFields) is escaped, once, whatever value of the package it came
// from. The renderer calls it on each build section before it adds its own
// templates (the revision label, the commit tag), which must stay live.
func escapeTemplates(v any) {
	escapeValue(reflect.ValueOf(v), false, map[uintptr]bool{})
}

func escapeValue(v reflect.Value, templated bool, seen map[uintptr]bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || seen[v.Pointer()] {
			return
		}
		seen[v.Pointer()] = true
		escapeValue(v.Elem(), templated, seen)
	case reflect.Interface:
		if !v.IsNil() {
			escapeValue(v.Elem(), templated, seen)
		}
	case reflect.String:
		if templated && v.CanSet() {
			v.SetString(templateLiteral(v.String()))
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			escapeValue(v.Index(i), templated, seen)
		}
	case reflect.Map:
		if v.IsNil() || seen[v.Pointer()] {
			return
		}
		seen[v.Pointer()] = true
		for _, k := range v.MapKeys() {
			e := v.MapIndex(k)
			if e.Kind() == reflect.Pointer || e.Kind() == reflect.Interface {
				escapeValue(e, templated, seen)
				continue
			}
			c := reflect.New(e.Type()).Elem()
			c.Set(e)
			escapeValue(c, templated, seen)
			v.SetMapIndex(k, c)
		}
	case reflect.Struct:
		t := v.Type()
		listed := templatedFields[t]
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			inner := templated || strings.Contains(f.Tag.Get("skaffold"), "template")
			for _, name := range listed {
				inner = inner || f.Name == name
			}
			escapeValue(v.Field(i), inner, seen)
		}
	}
}
