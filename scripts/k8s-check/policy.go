package main

import (
	"fmt"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// rendered holds one overlay's objects by kind.
type rendered struct {
	deployments   []*appsv1.Deployment
	jobs          []*batchv1.Job
	configMaps    map[string]*corev1.ConfigMap
	pdbs          []*policyv1.PodDisruptionBudget
	hpas          []*autoscalingv2.HorizontalPodAutoscaler
	scaledObjects []*ScaledObject
}

// checkPolicy applies the project's rules to one overlay's decoded objects.
func checkPolicy(objects []object, partitions map[string]int) []string {
	r := rendered{configMaps: map[string]*corev1.ConfigMap{}}
	for _, o := range objects {
		switch v := o.obj.(type) {
		case *appsv1.Deployment:
			r.deployments = append(r.deployments, v)
		case *batchv1.Job:
			r.jobs = append(r.jobs, v)
		case *corev1.ConfigMap:
			r.configMaps[v.Name] = v
		case *policyv1.PodDisruptionBudget:
			r.pdbs = append(r.pdbs, v)
		case *autoscalingv2.HorizontalPodAutoscaler:
			r.hpas = append(r.hpas, v)
		case *ScaledObject:
			r.scaledObjects = append(r.scaledObjects, v)
		}
	}
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if len(r.deployments) == 0 {
		add("no Deployment rendered")
	}
	for _, d := range r.deployments {
		where := "Deployment/" + d.Name
		pod := &d.Spec.Template.Spec
		checkPod(where, pod, add)
		for _, c := range pod.Containers {
			checkProbes(where, c, add)
		}
		checkShutdown(where, pod, r.env(pod), add)
		checkMetricsPort(where, d, r.env(pod), add)
		if !r.hasPDB(d) {
			add("%s: no PodDisruptionBudget selects its pods", where)
		}
	}
	for _, j := range r.jobs {
		checkPod("Job/"+j.Name, &j.Spec.Template.Spec, add)
	}
	problems = append(problems, r.checkScaling(partitions)...)
	return problems
}

func checkPod(where string, pod *corev1.PodSpec, add func(string, ...any)) {
	podNonRoot := pod.SecurityContext != nil && isTrue(pod.SecurityContext.RunAsNonRoot)
	for _, c := range append(append([]corev1.Container{}, pod.InitContainers...), pod.Containers...) {
		at := fmt.Sprintf("%s container %s", where, c.Name)
		for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			request, hasRequest := c.Resources.Requests[res]
			limit, hasLimit := c.Resources.Limits[res]
			if !hasRequest || !hasLimit {
				add("%s: needs a %s request and limit", at, res)
			} else if request.Cmp(limit) > 0 {
				add("%s: %s request %s is above its limit %s", at, res, request.String(), limit.String())
			}
		}
		sc := c.SecurityContext
		if !podNonRoot && (sc == nil || !isTrue(sc.RunAsNonRoot)) {
			add("%s: must run as non-root (runAsNonRoot: true)", at)
		}
		if sc != nil && sc.RunAsUser != nil && *sc.RunAsUser == 0 {
			add("%s: runs as uid 0", at)
		}
		if sc == nil || !isTrue(sc.ReadOnlyRootFilesystem) {
			add("%s: needs readOnlyRootFilesystem: true", at)
		}
		if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			add("%s: needs allowPrivilegeEscalation: false", at)
		}
	}
	if pod.SecurityContext != nil && pod.SecurityContext.RunAsUser != nil && *pod.SecurityContext.RunAsUser == 0 {
		add("%s: pod runs as uid 0", where)
	}
}

func checkProbes(where string, c corev1.Container, add func(string, ...any)) {
	at := fmt.Sprintf("%s container %s", where, c.Name)
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"startupProbe", c.StartupProbe, "/healthz"}, {"livenessProbe", c.LivenessProbe, "/healthz"}, {"readinessProbe", c.ReadinessProbe, "/readyz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			add("%s: needs an HTTP %s on %s", at, p.name, p.path)
		} else if p.probe.HTTPGet.Path != p.path {
			add("%s: %s must ask %s (asks %s)", at, p.name, p.path, p.probe.HTTPGet.Path)
		}
	}
}

// A SIGTERM'd service drains within SHUTDOWN_TIMEOUT_MS; Kubernetes must not kill it sooner.
func checkShutdown(where string, pod *corev1.PodSpec, env map[string]string, add func(string, ...any)) {
	ms, err := strconv.Atoi(env["SHUTDOWN_TIMEOUT_MS"])
	if err != nil {
		ms = 10_000 // the services' default
	}
	needed := int64(ms) / 1000
	for _, c := range pod.Containers {
		if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
			needed += c.Lifecycle.PreStop.Sleep.Seconds
		}
	}
	grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
	if pod.TerminationGracePeriodSeconds != nil {
		grace = *pod.TerminationGracePeriodSeconds
	}
	if grace <= needed {
		add("%s: terminationGracePeriodSeconds %d must exceed preStop + SHUTDOWN_TIMEOUT_MS (%d s)", where, grace, needed)
	}
}

// The services serve /metrics on METRICS_PORT, apart from the API; the scrape annotation and the
// container port must say the same port.
func checkMetricsPort(where string, d *appsv1.Deployment, env map[string]string, add func(string, ...any)) {
	port := env["METRICS_PORT"]
	if port == "" {
		add("%s: METRICS_PORT is not set", where)
		return
	}
	annotations := d.Spec.Template.Annotations
	if annotations["prometheus.io/scrape"] != "true" || annotations["prometheus.io/port"] != port {
		add("%s: pod template needs prometheus.io/scrape \"true\" and prometheus.io/port %q", where, port)
	}
	found := false
	for _, c := range d.Spec.Template.Spec.Containers {
		for _, p := range c.Ports {
			found = found || strconv.Itoa(int(p.ContainerPort)) == port
		}
	}
	if !found {
		add("%s: no container declares the metrics port %s", where, port)
	}
}

// env is what a pod's first container gets from its ConfigMaps (envFrom) and env values.
func (r rendered) env(pod *corev1.PodSpec) map[string]string {
	env := map[string]string{}
	if len(pod.Containers) == 0 {
		return env
	}
	c := pod.Containers[0]
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef != nil {
			if cm := r.configMaps[from.ConfigMapRef.Name]; cm != nil {
				for k, v := range cm.Data {
					env[k] = v
				}
			}
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env[e.Name] = e.Value
		}
	}
	return env
}

func (r rendered) hasPDB(d *appsv1.Deployment) bool {
	for _, pdb := range r.pdbs {
		selector, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err == nil && !selector.Empty() && selector.Matches(labels.Set(d.Spec.Template.Labels)) {
			return true
		}
	}
	return false
}

func isTrue(b *bool) bool { return b != nil && *b }

func trimPrefix(s, prefix string) (string, bool) {
	if !strings.HasPrefix(s, prefix) {
		return s, false
	}
	return strings.TrimPrefix(s, prefix), true
}
