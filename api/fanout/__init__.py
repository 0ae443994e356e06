"""Fan-out of subscriptions over WebSocket: a change executed and encoded once for every
subscriber that asks the same, and a small record per subscription instead of Strawberry's
task, generators and execution context for each.

A subscription's resolver starts as any other (Strawberry parses, validates, checks the
policy and sends the first result); the WebSocket handler offers it a `Seat` as its root
value, and a resolver that follows a `Feed` takes it: from its first result on, the
subscription is a `Subscriber` of the `Broadcast` of its topic, document, variables and
principal, and the operation's task ends.
"""
