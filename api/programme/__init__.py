"""The programme: earning rules and the rewards catalog, managed by administrators."""
