package main

import "fmt"

// Which autoscaler each service must have: CPU for the HTTP services, consumer lag for the
// consumers, whose replicas are bounded by their topics' partitions.
var wantedScaler = map[string]string{
	"gateway": "HorizontalPodAutoscaler",
	"read":    "HorizontalPodAutoscaler",
	"clients": "ScaledObject",
	"metrics": "ScaledObject",
}

func (r rendered) checkScaling(partitions map[string]int) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	deployments := map[string]bool{}
	for _, d := range r.deployments {
		deployments[d.Name] = true
	}
	scaledBy := map[string][]string{}
	for _, h := range r.hpas {
		where := "HorizontalPodAutoscaler/" + h.Name
		ref := h.Spec.ScaleTargetRef
		if ref.Kind != "Deployment" || !deployments[ref.Name] {
			add("%s: targets %s %q, which is not a rendered Deployment", where, ref.Kind, ref.Name)
		}
		scaledBy[ref.Name] = append(scaledBy[ref.Name], "HorizontalPodAutoscaler")
		if h.Spec.MinReplicas != nil && *h.Spec.MinReplicas > h.Spec.MaxReplicas {
			add("%s: minReplicas %d is above maxReplicas %d", where, *h.Spec.MinReplicas, h.Spec.MaxReplicas)
		}
	}
	prefix := ""
	for name, cm := range r.configMaps {
		if _, ok := trimPrefix(name, "trackme-config"); ok {
			prefix = cm.Data["KAFKA_TOPIC_PREFIX"]
		}
	}
	for _, s := range r.scaledObjects {
		where := "ScaledObject/" + s.Name
		ref := s.Spec.ScaleTargetRef
		if (ref.Kind != "" && ref.Kind != "Deployment") || !deployments[ref.Name] {
			add("%s: targets %q, which is not a rendered Deployment", where, ref.Name)
		}
		scaledBy[ref.Name] = append(scaledBy[ref.Name], "ScaledObject")
		if s.Spec.MaxReplicaCount == nil {
			add("%s: needs maxReplicaCount (KEDA's default, 100, is above any topic's partitions)", where)
			continue
		}
		max := *s.Spec.MaxReplicaCount
		if s.Spec.MinReplicaCount != nil && *s.Spec.MinReplicaCount > max {
			add("%s: minReplicaCount %d is above maxReplicaCount %d", where, *s.Spec.MinReplicaCount, max)
		}
		if len(s.Spec.Triggers) == 0 {
			add("%s: has no trigger", where)
		}
		for _, t := range s.Spec.Triggers {
			if t.Type != "kafka" {
				add("%s: trigger %q is %q; the consumers scale on Kafka lag", where, t.Name, t.Type)
				continue
			}
			topic, ok := trimPrefix(t.Metadata["topic"], prefix)
			n, known := partitions[topic]
			if !ok || !known {
				add("%s: trigger %q reads topic %q, not a declared topic (with prefix %q)", where, t.Name, t.Metadata["topic"], prefix)
				continue
			}
			if int(max) > n {
				add("%s: maxReplicaCount %d is above the %d partitions of %s: the extra instances would get no partition", where, max, n, topic)
			}
			if t.Metadata["consumerGroup"] == "" || t.Metadata["lagThreshold"] == "" {
				add("%s: trigger %q needs consumerGroup and lagThreshold", where, t.Name)
			}
		}
	}
	for name, kind := range wantedScaler {
		if !deployments[name] {
			add("Deployment/%s is missing", name)
			continue
		}
		got := scaledBy[name]
		if len(got) != 1 || got[0] != kind {
			add("Deployment/%s: must be scaled by exactly one %s (found %v)", name, kind, got)
		}
	}
	for _, d := range r.deployments {
		// kubectl apply would set the count back to the manifest's at every release
		if len(scaledBy[d.Name]) > 0 && d.Spec.Replicas != nil {
			add("Deployment/%s: sets replicas (%d) although an autoscaler owns the count", d.Name, *d.Spec.Replicas)
		}
	}
	return problems
}
