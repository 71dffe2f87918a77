package lang

// checkUsage warns about declarations nothing uses: usually a step or a
// source that was meant to refer to them and names something else.
func (c *checker) checkUsage() {
	used := map[string]bool{}
	for k := range c.d.mentioned {
		used[k] = true
	}
	for _, p := range c.cfg.Pipelines {
		for _, s := range p.Steps {
			if s.Task != nil {
				used["task."+s.Task.Name] = true
			}
		}
	}
	for _, s := range c.cfg.Sources {
		if s.Provider != nil {
			used["provider."+s.Provider.Name] = true
		}
	}
	for _, t := range c.cfg.Tasks {
		if !used["task."+t.Name] {
			c.d.warnf(t.NameRange, "Unused task", "No step runs task.%s. Use it in a step (task = task.%s) or remove it.", t.Name, t.Name)
		}
	}
	for _, p := range c.cfg.Providers {
		if !used["provider."+p.Name] {
			c.d.warnf(p.NameRange, "Unused provider", "No source reads from provider.%s. Use it in a source (provider = provider.%s) or remove it.", p.Name, p.Name)
		}
	}
}
