-- Custom SQL migration file, put your code below! ---- Agents that acted before modes existed: what they already did is not a new capability.
insert into agent_capabilities (agent_id, action_type, first_escalation_id, first_seen_at)
select distinct on (agent_id, action_type) agent_id, action_type, id, created_at
from escalations
where agent_id is not null and action_type is not null and status <> 'rejected'
order by agent_id, action_type, created_at
on conflict do nothing;
