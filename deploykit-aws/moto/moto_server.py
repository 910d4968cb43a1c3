"""moto's server, with Auto Scaling scheduled actions kept per group, as AWS keeps them.

moto 5 stores every scheduled action in one table keyed by the action's name alone. deploykit
gives each recycled group actions of the same names (`RecycleOnce.asg-recycle`,
`DelayedScaleOutOnce.asg-recycle`), as asg-recycle does, and AWS scopes those names to their
group; in stock moto, a recycle of idp (migration, idp and worker groups) leaves the actions on
the last group only, so a test of a multi-group recycle would not test what it seems to.

The moto harness (`deploykit-aws/src/moto.rs`) runs this file with the virtual environment's
Python instead of `moto_server`; arguments are moto_server's.
"""

import sys

from moto.autoscaling import models

_backend = models.AutoScalingBackend
_put_by_name = _backend.put_scheduled_update_group_action


def _put_per_group(self, *args, **kwargs):
    """moto's put, then the action filed under (group, name) instead of its name."""
    action = _put_by_name(self, *args, **kwargs)
    name = action.scheduled_action_name
    if self.scheduled_actions.get(name) is action:
        del self.scheduled_actions[name]
    self.scheduled_actions[(action.auto_scaling_group_name, name)] = action
    return action


def _delete_per_group(self, auto_scaling_group_name, scheduled_action_name):
    """Deletes the group's own action of that name; AWS's error when it has none."""
    key = (auto_scaling_group_name, scheduled_action_name)
    if self.scheduled_actions.pop(key, None) is None:
        raise models.ValidationError("Scheduled action name not found")


_backend.put_scheduled_update_group_action = _put_per_group
_backend.delete_scheduled_action = _delete_per_group

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main())
