"""`sfpms onboard`: pair the records an org already has, then let the sync take over.

- `survey`: read both systems through the capture code (fields, scope tags, conversion) and
  the engine's link table; plan every flow (`streams.mapping.onboarding`);
- `publish`: carry a plan out by publishing each record's envelope again with the decision
  attached (`source.onboarding`), so the engine links and creates exactly as it does live.
"""
