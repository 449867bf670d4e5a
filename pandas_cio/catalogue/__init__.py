"""What can be sent: the declarative tables every other layer reads.

The operations table (:mod:`.operations`, built from :mod:`.operation`'s
vocabulary and the semantic rows of :mod:`.semantic`), the event catalogue
(:mod:`.events`, its table in :mod:`._event_table`), the value kinds
(:mod:`.kinds`), the event names plain ``track()`` refuses (:mod:`.reserved`)
and the OpenAPI document generated from them (:mod:`.openapi`). Nothing here
touches a frame or the network.
"""
