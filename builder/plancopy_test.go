package builder

import (
	"fmt"
	"reflect"
	"testing"
)

// TestEverySettingReachesThePlan walks project.toml's settings ([project],
// [build] and every table under it, [release]) by reflection, changes each
// one in turn and checks that the plan changes: the plan is the one value
// later stages read, so a setting NewPlan forgets to carry is a setting
// that silently does nothing. A new key fails here until the plan has it.
func TestEverySettingReachesThePlan(t *testing.T) {
	p, err := LoadProjectWith("../testdata/projects/cwltests/project.toml", LoadOptions{SkipContexts: true, SkipCWL: true})
	if err != nil {
		t.Fatal(err)
	}
	base := NewPlan(p)
	settings := 0
	for _, root := range []struct {
		key string
		v   reflect.Value
	}{{"project", reflect.ValueOf(&p.Project).Elem()}, {"build", reflect.ValueOf(&p.Build).Elem()}, {"release", reflect.ValueOf(&p.Release).Elem()}} {
		eachSetting(root.v, root.key, func(key string, f reflect.Value) {
			settings++
			old := reflect.New(f.Type()).Elem()
			old.Set(f)
			defer f.Set(old)
			f.Set(changed(f))
			if reflect.DeepEqual(NewPlan(p), base) {
				t.Errorf("%s: changing it leaves the plan as it was: NewPlan does not carry it", key)
			}
		})
	}
	t.Logf("%d settings walked", settings)
	if settings < 40 {
		t.Errorf("walked %d settings: the walk misses tables", settings)
	}
}

// eachSetting calls fn with every settable leaf under v, a struct, named
// by its TOML key; pointers to structs are followed (made when nil).
func eachSetting(v reflect.Value, key string, fn func(key string, f reflect.Value)) {
	for i := range v.NumField() {
		sf := v.Type().Field(i)
		name := tomlName(sf)
		if !sf.IsExported() || name == "-" || name == "" {
			continue
		}
		f := v.Field(i)
		k := key + "." + name
		switch {
		case f.Kind() == reflect.Struct:
			eachSetting(f, k, fn)
		case f.Kind() == reflect.Pointer && f.Type().Elem().Kind() == reflect.Struct:
			if f.IsNil() {
				f.Set(reflect.New(f.Type().Elem()))
			}
			eachSetting(f.Elem(), k, fn)
		default:
			fn(k, f)
		}
	}
}

// changed is a value of f's type that differs from f's.
func changed(f reflect.Value) reflect.Value {
	v := reflect.New(f.Type()).Elem()
	switch f.Kind() {
	case reflect.String:
		if f.String() == "" {
			v.SetString("https://changed.example/changed") // a URL, for [project] repository
		} else {
			v.SetString(f.String() + "-changed")
		}
	case reflect.Bool:
		v.SetBool(!f.Bool())
	case reflect.Int:
		v.SetInt(f.Int() + 7)
	case reflect.Pointer:
		v.Set(reflect.New(f.Type().Elem()))
		inner := f
		if f.IsNil() {
			inner = reflect.New(f.Type().Elem()).Elem()
		} else {
			inner = f.Elem()
		}
		v.Elem().Set(changed(inner))
	case reflect.Slice:
		v = reflect.Append(reflect.MakeSlice(f.Type(), 0, f.Len()+1), changed(reflect.New(f.Type().Elem()).Elem()))
	case reflect.Map:
		v = reflect.MakeMap(f.Type())
		v.SetMapIndex(reflect.ValueOf("changed.example"), changed(reflect.New(f.Type().Elem()).Elem()))
	default:
		panic(fmt.Sprintf("changed: %s", f.Type()))
	}
	return v
}
