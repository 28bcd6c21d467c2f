package main

import (
	"bytes"
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
)

// object is one rendered resource, decoded into its typed form.
type object struct {
	kind string
	name string
	obj  any
}

var scheme = runtime.NewScheme()

func init() {
	for _, add := range []func(*runtime.Scheme) error{
		appsv1.AddToScheme, autoscalingv2.AddToScheme, batchv1.AddToScheme, corev1.AddToScheme,
		networkingv1.AddToScheme, policyv1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
}

// A strict codec refuses unknown and duplicated fields; wrong types fail any decoding.
var strict = serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()

// decodeStrict decodes one rendered object: built-in kinds against k8s.io/api, KEDA's
// ScaledObject and TriggerAuthentication against the mirror types in keda.go.
func decodeStrict(data []byte) (object, error) {
	var head metav1.TypeMeta
	if err := json.Unmarshal(data, &head); err != nil {
		return object{}, err
	}
	if head.APIVersion == kedaAPIVersion {
		var target any
		switch head.Kind {
		case "ScaledObject":
			target = &ScaledObject{}
		case "TriggerAuthentication":
			target = &TriggerAuthentication{}
		default:
			return object{}, fmt.Errorf("unknown KEDA kind %q", head.Kind)
		}
		decoder := json.NewDecoder(bytes.NewReader(data))
		decoder.DisallowUnknownFields()
		if err := decoder.Decode(target); err != nil {
			return object{}, fmt.Errorf("strict decoding as %s %s: %w", head.APIVersion, head.Kind, err)
		}
		return object{kind: head.Kind, name: nameOf(target), obj: target}, nil
	}
	decoded, gvk, err := strict.Decode(data, nil, nil)
	if err != nil {
		return object{}, fmt.Errorf("strict decoding as %s %s: %w", head.APIVersion, head.Kind, err)
	}
	meta, ok := decoded.(metav1.Object)
	if !ok {
		return object{}, fmt.Errorf("%s has no object metadata", gvk)
	}
	return object{kind: gvk.Kind, name: meta.GetName(), obj: decoded}, nil
}

func nameOf(target any) string {
	switch t := target.(type) {
	case *ScaledObject:
		return t.Name
	case *TriggerAuthentication:
		return t.Name
	}
	return ""
}
