package config

// validateGroups checks the voters' hierarchical quorum settings (group and
// weight, from YAML or from a zoo.cfg's group.N and weight.N lines) and
// fills the ensemble's Groups and Weights from them. ZooKeeper refuses a
// hierarchical configuration with a voter outside every group, and ignores
// weights without groups: here both are errors, since either means the
// quorum rule the user has in mind is not the one they wrote.
func validateGroups(ensemble *Ensemble, report reporter) {
	ensemble.Groups, ensemble.Weights = nil, nil
	grouped := 0
	for j, member := range ensemble.Members {
		if member == nil {
			continue
		}
		problem := memberReporter(ensemble, j, member, report)
		if member.Weight != nil && *member.Weight < 0 {
			problem("weight %d is negative", *member.Weight)
		}
		if member.Group != nil && member.Voter() {
			grouped++
		}
	}
	if grouped == 0 {
		reportWeightsWithoutGroups(ensemble, report)
		return
	}
	groups, weights := map[int]int{}, map[int]int{}
	for j, member := range ensemble.Members {
		if member == nil {
			continue
		}
		problem := memberReporter(ensemble, j, member, report)
		switch {
		case !member.Voter() && member.Group == nil:
			// An observer in no group line adds nothing to any total.
		case !member.Voter() && member.ServerID <= 0:
			problem("group needs server_id: hierarchical quorums name their servers by id")
		case !member.Voter():
			// ZooKeeper counts an observer's weight in its group's total,
			// though the observer never acks.
			groups[member.ServerID], weights[member.ServerID] = *member.Group, weightOr1(member.Weight)
		case member.Group == nil:
			problem("no group, while other voters have one: with hierarchical quorums every voter needs a group")
		case member.ServerID <= 0:
			problem("group needs server_id: hierarchical quorums name their servers by id")
		case member.Weight == nil:
			groups[member.ServerID], weights[member.ServerID] = *member.Group, 1
		case *member.Weight >= 0:
			groups[member.ServerID], weights[member.ServerID] = *member.Group, *member.Weight
		}
	}
	if len(groups) == grouped && !anyGroupWeighs(groups, weights) {
		report(ensemble.line, "ensemble %q: every group weighs 0: no quorum can ever form", ensemble.Name)
	}
	ensemble.Groups, ensemble.Weights = groups, weights
}

func weightOr1(weight *int) int {
	if weight == nil {
		return 1
	}
	return *weight
}

func reportWeightsWithoutGroups(ensemble *Ensemble, report reporter) {
	for j, member := range ensemble.Members {
		if member != nil && member.Voter() && member.Weight != nil {
			memberReporter(ensemble, j, member, report)(
				"weight without groups: weights count only within hierarchical quorums; give every voter a group")
		}
	}
}

// anyGroupWeighs reports whether some group has a positive total weight:
// ZooKeeper leaves out groups that weigh 0, and with none left nothing is a
// quorum.
func anyGroupWeighs(groups, weights map[int]int) bool {
	for id := range groups {
		if weights[id] > 0 {
			return true
		}
	}
	return false
}
