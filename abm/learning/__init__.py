"""Learning from the agent model's days: observation histories of production units for type
inference (:mod:`abm.learning.histories`) and datasets of them over scenarios, seeds and
misreporting mixes (:mod:`abm.learning.dataset`). Reads models; never changes a day."""
