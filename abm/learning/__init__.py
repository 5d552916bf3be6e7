"""Learning from the agent model's days.

- :mod:`abm.learning.histories`: observation histories of production units for type inference
  (reads models; never changes a day); :mod:`abm.learning.dataset`: datasets of them over
  scenarios, seeds and misreporting mixes;
- :mod:`abm.learning.observe`: what the learned planning policy observes between days;
  :mod:`abm.learning.environment`: the agent model as a policy-gradient environment;
  :mod:`abm.learning.training`: type inference, then the policy, for one scenario;
- :mod:`abm.learning.study`: the learned planner against the defences and the oracle.
"""
