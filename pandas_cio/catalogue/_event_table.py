"""The declarative table of the semantic events, one entry each.

Read as data: every entry is an :class:`~pandas_cio.catalogue._event_spec.EventSpec`
built from the shared pieces below, in the order the API lists the events.
:mod:`pandas_cio.catalogue.events` indexes it by name and category.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._event_spec import EventSpec, JsonType, PropertySpec

__all__ = ["DELIVERY_METRICS", "TABLE"]

# Builders: one line a member, so the entries below read as the reference does.


def _str(
    description: str = "", *, enum: tuple[str, ...] | None = None, fmt: str | None = None
) -> PropertySpec:
    return PropertySpec("string", description, enum=enum, format=fmt)


def _num(description: str = "") -> PropertySpec:
    return PropertySpec("number", description)


def _int(
    description: str = "", *, minimum: float | None = None, maximum: float | None = None
) -> PropertySpec:
    return PropertySpec("integer", description, minimum=minimum, maximum=maximum)


def _bool(description: str = "") -> PropertySpec:
    return PropertySpec("boolean", description)


def _obj(description: str = "") -> PropertySpec:
    return PropertySpec("object", description)


def _list(item_type: JsonType, description: str = "") -> PropertySpec:
    return PropertySpec("array", description, item_type=item_type)


def _objects(items: Mapping[str, JsonType], description: str = "") -> PropertySpec:
    return PropertySpec("array", description, items=items)


# Shared building blocks. The reference composes many events from the same
# pieces (a product, an order, a playback state), and so does this table.

_PRODUCT_ITEM: Mapping[str, JsonType] = {
    "product_id": "string",
    "sku": "string",
    "category": "string",
    "name": "string",
    "brand": "string",
    "variant": "string",
    "price": "number",
    "quantity": "integer",
    "coupon": "string",
    "position": "number",
    "url": "string",
    "image_url": "string",
}

_PRODUCTS = _objects(_PRODUCT_ITEM, "The products involved, one object each.")

_PRODUCT: Mapping[str, PropertySpec] = {
    "product_id": _str("Product identifier."),
    "sku": _str("Stock keeping unit."),
    "category": _str("Product category."),
    "name": _str("Product name."),
    "brand": _str("Brand of the product."),
    "variant": _str("Variant such as colour or size."),
    "price": _num("Unit price."),
    "quantity": _int("Number of units."),
    "coupon": _str("Coupon code attached to the product."),
    "position": _num("Place of the product in the list it was shown in."),
    "url": _str("Address of the product page."),
    "image_url": _str("Address of the product image."),
}

_WISHLIST: Mapping[str, PropertySpec] = {
    "wishlist_id": _str("Wishlist identifier."),
    "wishlist_name": _str("Wishlist name."),
}

_ORDER: Mapping[str, PropertySpec] = {
    "order_id": _str("Order or transaction identifier."),
    "affiliation": _str("Store or channel the order came through."),
    "revenue": _num("Revenue before discounts, shipping and tax."),
    "shipping": _num("Shipping cost."),
    "tax": _num("Tax amount."),
    "discount": _num("Total discount."),
    "coupon": _str("Coupon code applied to the order."),
    "currency": _str("Currency code, such as USD."),
    "products": _PRODUCTS,
}

_ORDER_TOTALS: Mapping[str, PropertySpec] = {
    "checkout_id": _str("Checkout identifier."),
    "subtotal": _num("Amount after discounts, before tax and shipping."),
    "total": _num("Final amount of the order."),
}

_CHECKOUT_STEP: Mapping[str, PropertySpec] = {
    "checkout_id": _str("Checkout identifier."),
    "step": _int("Number of the checkout step."),
    "shipping_method": _str("Shipping method chosen."),
    "payment_method": _str("Payment method chosen."),
}

_PROMOTION: Mapping[str, PropertySpec] = {
    "promotion_id": _str("Promotion identifier."),
    "creative": _str("Identifier of the promotion's creative."),
    "name": _str("Promotion name."),
    # A named slot (the reference's example is "banner_slot_1"), so a string,
    # unlike the numeric position of a product in a list.
    "position": _str("Slot where the promotion was shown."),
}

_COUPON: Mapping[str, PropertySpec] = {
    "order_id": _str("Order the coupon is for, if any."),
    "cart_id": _str("Cart the coupon is for, if any."),
    "coupon_id": _str("Coupon identifier."),
}

_SHARE: Mapping[str, PropertySpec] = {
    "share_via": _str("Channel used to share, such as email or SMS."),
    "share_message": _str("Message sent along with the share."),
    "recipient": _str("Who received the share."),
}

_EMAIL: Mapping[str, PropertySpec] = {
    "email_id": _str("Identifier of the email or delivery."),
    "email_subject": _str("Subject line."),
    "campaign_id": _str("Campaign the email belongs to."),
    "campaign_name": _str("Campaign name."),
}

_EMAIL_RECIPIENT: Mapping[str, PropertySpec] = {
    "context.traits.email": _str("Recipient's email address."),
}

_EMAIL_ACTOR: Mapping[str, PropertySpec] = {
    **_EMAIL_RECIPIENT,
    "context.traits.ip": _str("IP address the recipient acted from."),
    "context.traits.user_agent": _str("User agent the recipient acted from."),
}

_LIVE_CHAT: Mapping[str, PropertySpec] = {
    "agent_id": _str("Identifier of the agent."),
    "agent_name": _str("Agent's real name."),
    "agent_username": _str("Agent's user name."),
    "conversation_id": _str("Conversation identifier."),
    "conversation_duration": _int("Seconds since the conversation began (0 at the start)."),
    "message_id": _str("Identifier of the message."),
}

_APP_VERSION: Mapping[str, PropertySpec] = {
    "version": _str("App version."),
    "build": _str("App build."),
}

_AD_TYPES = ("pre-roll", "mid-roll", "post-roll")

_PLAYBACK: Mapping[str, PropertySpec] = {
    "session_id": _str("Playback session, shared by all events of one playback."),
    "ad_asset_id": _str("Ad asset playing or about to play."),
    "ad_pod_id": _str("Ad pod playing or about to play."),
    "ad_type": _str("Kind of ad playing.", enum=_AD_TYPES),
    "position": _int("Playhead position in seconds, ads included."),
    "total_length": _int("Length of the whole playback in seconds."),
    "bitrate": _int("Current bitrate in kbit/s."),
    "framerate": _int("Average frames per second."),
    "video_player": _str("Name of the player, such as youtube."),
    "sound": _int("Player volume.", minimum=0, maximum=100),
    "full_screen": _bool("True when playing full screen."),
    "ad_enabled": _bool("False when the viewer blocks ads."),
    "quality": _str("Playback quality, such as 480p."),
    "livestream": _bool("True for a livestream."),
}

_ONE_CONTENT: Mapping[str, PropertySpec] = {
    "content_asset_id": _str("Video the user interacted with."),
    "content_pod_id": _str("Content pod the user interacted with."),
}

_VIDEO_CONTENT: Mapping[str, PropertySpec] = {
    "session_id": _str("Playback session, shared by all events of one playback."),
    "asset_id": _str("Content asset identifier."),
    "pod_id": _str("Content pod identifier."),
    "program": _str("Show or programme the content belongs to."),
    "title": _str("Title of the content."),
    "description": _str("Description of the content."),
    "season": _str("Season, if any."),
    "position": _int("Playhead position in seconds within this content."),
    "total_length": _int("Length of this content in seconds."),
    "genre": _str("Genre."),
    "publisher": _str("Publisher."),
    "channel": _str("Channel the content airs on."),
    "full_episode": _bool("True for a full episode."),
    "livestream": _bool("True for a livestream."),
    "airdate": _str("When the content first aired.", fmt="date-time"),
    "bitrate": _int("Current bitrate in kbit/s."),
    "framerate": _int("Average frames per second."),
    "keywords": _list("string", "Keywords describing the content."),
}

_VIDEO_AD: Mapping[str, PropertySpec] = {
    "session_id": _str("Playback session, shared by all events of one playback."),
    "asset_id": _str("Ad asset identifier."),
    "pod_id": _str("Ad pod identifier."),
    "pod_position": _int("Place of this ad within its pod, from 1."),
    "pod_length": _int("Number of ads in the pod."),
    "type": _str("Kind of ad.", enum=_AD_TYPES),
    "title": _str("Title of the ad."),
    "position": _int("Playhead position in seconds within the ad."),
    "total_length": _int("Length of the ad in seconds."),
    "publisher": _str("Publisher of the ad."),
    "load_type": _str("How ads are inserted.", enum=("dynamic", "linear")),
    "content": _obj("Metadata of the content the ad plays in."),
    "quartile": _int("Quartile of the ad the viewer reached."),
}

_USER_ID = {"userId": _str("The person, by identifier (or email address where accepted).")}

# The metrics the Journeys destination's reportDeliveryEvent action accepts.
DELIVERY_METRICS = (
    "delivered",
    "opened",
    "clicked",
    "converted",
    "bounced",
    "spammed",
    "dropped",
    "deferred",
)

_DEVICE = {
    **_USER_ID,
    "context.device.token": _str("Device token."),
    "context.device.type": _str("Device platform.", enum=("ios", "android")),
}

_TIMESTAMP = {"timestamp": _str("When the event happened.", fmt="date-time")}

_OBJECT = {
    "objectId": _str("The object (group), by identifier."),
    "objectTypeId": _int("Object type; the service assumes 1 when it is left out."),
}


TABLE: tuple[EventSpec, ...] = (
    # Customer.io: events that change data in the workspace itself.
    EventSpec(
        "Device Created or Updated",
        "customerio",
        {},
        reference="create_update_device",
        summary="Add a device to a person, or update it if the token is known.",
        call_fields=_DEVICE,
        required_call_fields=("userId", "context.device.token"),
        journeys_action="createUpdateDevice",
        # The destination's device action requires the platform.
        journeys_needs={"context.device.type": _DEVICE["context.device.type"]},
    ),
    EventSpec(
        "Device Deleted",
        "customerio",
        {},
        reference="delete_device",
        summary="Remove a device from a person.",
        call_fields=_DEVICE,
        required_call_fields=("userId", "context.device.token"),
        journeys_action="deleteDevice",
    ),
    EventSpec(
        "User Deleted",
        "customerio",
        {},
        reference="delete_person",
        summary="Delete a person from the workspace.",
        call_fields=_USER_ID,
        required_call_fields=("userId",),
        journeys_action="deletePerson",
    ),
    EventSpec(
        "User Suppressed",
        "customerio",
        {},
        reference="suppress_person",
        summary="Delete a person and block the identifier from coming back.",
        call_fields={**_TIMESTAMP, **_USER_ID},
        required_call_fields=("userId",),
        journeys_action="suppressPerson",
    ),
    EventSpec(
        "User Unsuppressed",
        "customerio",
        {},
        reference="unsuppress_person",
        summary="Allow a suppressed identifier to be added again (no data comes back).",
        call_fields={**_TIMESTAMP, **_USER_ID},
        required_call_fields=("userId",),
        journeys_action="unsuppressPerson",
    ),
    EventSpec(
        "Relationship Deleted",
        "customerio",
        _OBJECT,
        required=("objectId",),
        reference="relationship_deleted",
        summary="Remove the relationship between a person and an object.",
        call_fields=_USER_ID,
        required_call_fields=("userId", "properties"),
        journeys_action="deleteRelationship",
    ),
    # The reference's schema leaves objectId optional, but its prose says the
    # event does nothing without one, so the catalogue requires it.
    EventSpec(
        "Object Deleted",
        "customerio",
        _OBJECT,
        required=("objectId",),
        reference="group_deleted",
        summary="Delete an object (group).",
        call_fields={"anonymousId": _str("Must be set; any value does, the service ignores it.")},
        required_call_fields=("anonymousId", "properties"),
        journeys_action="deleteObject",
    ),
    EventSpec(
        "Group Deleted",
        "customerio",
        _OBJECT,
        required=("objectId",),
        reference="group_deleted",
        summary="Delete an object (group); another name for Object Deleted.",
        call_fields={"anonymousId": _str("Must be set; any value does, the service ignores it.")},
        required_call_fields=("anonymousId", "properties"),
        # No preset of the Journeys destination routes this name to its delete
        # action: the call would be recorded as a custom event and delete nothing.
        refused=(
            "'Group Deleted' deletes nothing in Customer.io Journeys (no action takes it; "
            "it would be recorded as a custom event). Delete objects with "
            "df.cio.objects.delete(object_id=...), which sends 'Object Deleted'."
        ),
    ),
    EventSpec(
        "Report Delivery Event",
        "customerio",
        {
            "deliveryId": _str("The message delivery being reported on."),
            # The reference lists four metrics; the Journeys destination's
            # reportDeliveryEvent action takes these eight.
            "metric": _str("What happened to the message.", enum=DELIVERY_METRICS),
            "recipient": _str("Device id, phone number or device token of the recipient."),
            "reason": _str("Why the message failed, if it did."),
            "actionName": _str("Name of the action clicked in an in-app message."),
            "actionValue": _str("Value of the action clicked in an in-app message."),
            "href": _str("Link clicked in an in-app message."),
        },
        # The destination requires both, and reports nothing without them.
        required=("deliveryId", "metric"),
        reference="report_delivery_event",
        summary="Report a metric for a message sent by Customer.io, such as an in-app click.",
        call_fields=_TIMESTAMP,
        required_call_fields=("properties",),
        person=False,
        journeys_action="reportDeliveryEvent",
    ),
    # A/B tests.
    EventSpec(
        "Experiment Viewed",
        "ab_test",
        {
            "experiment_id": _str("Experiment identifier."),
            "experiment_name": _str("Experiment name."),
            "variation_id": _str("Identifier of the variation shown."),
            "variation_name": _str("Name of the variation shown."),
        },
        reference="experiment_viewed",
        summary="A person saw one variation of an experiment.",
    ),
    # Ecommerce.
    EventSpec(
        "Products Searched",
        "ecommerce",
        {"query": _str("What the person searched for.")},
        reference="products_searched",
        summary="A person searched the catalogue.",
    ),
    EventSpec(
        "Product List Viewed",
        "ecommerce",
        {
            "list_id": _str("Identifier of the list."),
            "category": _str("Category the list shows."),
            "products": _PRODUCTS,
        },
        reference="product_list_viewed",
        summary="A person viewed a list or category of products.",
    ),
    EventSpec(
        "Product List Filtered",
        "ecommerce",
        {
            "list_id": _str("Identifier of the list."),
            "category": _str("Category the list shows."),
            "products": _PRODUCTS,
            "filters": _objects(
                {"type": "string", "value": "string"}, "Filters applied, one object each."
            ),
            "sorts": _objects(
                {"type": "string", "value": "string"}, "Sort orders applied, one object each."
            ),
        },
        reference="product_list_filtered",
        summary="A person filtered or sorted a list of products.",
    ),
    EventSpec(
        "Product Clicked",
        "ecommerce",
        {
            **_PRODUCT,
            "currency": _str("Currency code, such as USD."),
            "value": _num("Price times quantity."),
        },
        reference="product_clicked",
        summary="A person clicked a product.",
    ),
    EventSpec(
        "Product Viewed",
        "ecommerce",
        {
            **_PRODUCT,
            "currency": _str("Currency code, such as USD."),
            "value": _num("Price times quantity."),
        },
        reference="product_viewed",
        summary="A person viewed the details of a product.",
    ),
    EventSpec(
        "Product Added",
        "ecommerce",
        {**_PRODUCT, "cart_id": _str("Cart the product went into.")},
        reference="product_added",
        summary="A person put a product in the cart.",
    ),
    EventSpec(
        "Product Removed",
        "ecommerce",
        {**_PRODUCT, "cart_id": _str("Cart the product left.")},
        reference="product_removed",
        summary="A person took a product out of the cart.",
    ),
    EventSpec(
        "Cart Viewed",
        "ecommerce",
        {"cart_id": _str("Cart identifier."), "products": _PRODUCTS},
        reference="cart_viewed",
        summary="A person looked at the cart.",
    ),
    EventSpec(
        "Checkout Started",
        "ecommerce",
        {**_ORDER, "value": _num("Expected revenue after discounts and coupons.")},
        reference="checkout_started",
        summary="A person began checking out.",
    ),
    EventSpec(
        "Checkout Step Viewed",
        "ecommerce",
        _CHECKOUT_STEP,
        reference="checkout_step_viewed",
        summary="A person reached a step of the checkout.",
    ),
    EventSpec(
        "Checkout Step Completed",
        "ecommerce",
        _CHECKOUT_STEP,
        reference="checkout_step_completed",
        summary="A person finished a step of the checkout.",
    ),
    EventSpec(
        "Payment Info Entered",
        "ecommerce",
        {**_CHECKOUT_STEP, "order_id": _str("Order identifier.")},
        reference="payment_info_entered",
        summary="A person entered payment details.",
    ),
    EventSpec(
        "Order Completed",
        "ecommerce",
        {**_ORDER, **_ORDER_TOTALS},
        reference="order_completed",
        summary="A person completed an order.",
    ),
    EventSpec(
        "Order Updated",
        "ecommerce",
        _ORDER,
        reference="order_updated",
        summary="An order changed.",
    ),
    EventSpec(
        "Order Refunded",
        "ecommerce",
        {**_ORDER, **_ORDER_TOTALS, "total": _num("Amount refunded.")},
        reference="order_refunded",
        summary="An order was refunded.",
    ),
    EventSpec(
        "Order Cancelled",
        "ecommerce",
        {**_ORDER, "total": _ORDER_TOTALS["total"]},
        reference="order_cancelled",
        summary="An order was cancelled.",
    ),
    EventSpec(
        "Promotion Viewed",
        "ecommerce",
        _PROMOTION,
        reference="promotion_viewed",
        summary="A person saw a promotion.",
    ),
    EventSpec(
        "Promotion Clicked",
        "ecommerce",
        _PROMOTION,
        reference="promotion_clicked",
        summary="A person clicked a promotion.",
    ),
    EventSpec(
        "Coupon Entered",
        "ecommerce",
        _COUPON,
        reference="coupon_entered",
        summary="A person entered a coupon.",
    ),
    EventSpec(
        "Coupon Applied",
        "ecommerce",
        {
            **_COUPON,
            "coupon_name": _str("Coupon name."),
            "discount": _num("Amount the coupon takes off."),
        },
        reference="coupon_applied",
        summary="A coupon was accepted and applied.",
    ),
    EventSpec(
        "Coupon Denied",
        "ecommerce",
        {
            **_COUPON,
            "coupon_name": _str("Coupon name."),
            "reason": _str("Why the coupon was refused."),
        },
        reference="coupon_denied",
        summary="A coupon was refused, for instance because it expired.",
    ),
    EventSpec(
        "Coupon Removed",
        "ecommerce",
        {
            **_COUPON,
            "coupon_name": _str("Coupon name."),
            "discount": _num("Amount the coupon had taken off."),
        },
        reference="coupon_removed",
        summary="A person removed a coupon.",
    ),
    EventSpec(
        "Product Added to Wishlist",
        "ecommerce",
        {**_WISHLIST, **_PRODUCT},
        reference="product_added_to_wishlist",
        summary="A person put a product on a wishlist.",
    ),
    EventSpec(
        "Product Removed from Wishlist",
        "ecommerce",
        {**_WISHLIST, **_PRODUCT},
        reference="product_removed_from_wishlist",
        summary="A person took a product off a wishlist.",
    ),
    EventSpec(
        "Wishlist Product Added to Cart",
        "ecommerce",
        {**_WISHLIST, "cart_id": _str("Cart the product went into."), **_PRODUCT},
        reference="wishlist_product_added_to_cart",
        summary="A person moved a product from a wishlist to the cart.",
    ),
    EventSpec(
        "Product Shared",
        "ecommerce",
        {
            **_SHARE,
            **{
                key: _PRODUCT[key]
                for key in (
                    "product_id",
                    "sku",
                    "category",
                    "name",
                    "brand",
                    "variant",
                    "price",
                    "url",
                    "image_url",
                )
            },
        },
        reference="product_shared",
        summary="A person shared a product.",
    ),
    EventSpec(
        "Cart Shared",
        "ecommerce",
        {
            **_SHARE,
            "cart_id": _str("Cart identifier."),
            "products": _objects({"product_id": "string"}, "Products in the shared cart."),
        },
        reference="cart_shared",
        summary="A person shared the cart.",
    ),
    EventSpec(
        "Product Reviewed",
        "ecommerce",
        {
            "product_id": _str("Product identifier."),
            "review_id": _str("Review identifier."),
            "review_body": _str("Text of the review."),
            "rating": _int("Rating given."),
        },
        reference="product_reviewed",
        summary="A person reviewed a product.",
    ),
    # Email: events reported by an email service; the recipient goes in context.traits.
    EventSpec(
        "Email Bounced",
        "email",
        _EMAIL,
        required=("email_id",),
        reference="email_event_bounced",
        summary="An email could not be delivered.",
        call_fields=_EMAIL_RECIPIENT,
    ),
    EventSpec(
        "Email Delivered",
        "email",
        _EMAIL,
        required=("email_id",),
        reference="email_event_delivered",
        summary="An email reached the recipient's server.",
        call_fields=_EMAIL_RECIPIENT,
    ),
    EventSpec(
        "Email Opened",
        "email",
        _EMAIL,
        required=("email_id",),
        reference="email_event_opened",
        summary="The recipient opened an email.",
        call_fields=_EMAIL_ACTOR,
    ),
    EventSpec(
        "Email Link Clicked",
        "email",
        {
            **_EMAIL,
            "link_id": _str("Identifier of the link."),
            "link_url": _str("Address of the link."),
        },
        required=("email_id",),
        reference="email_event_link_clicked",
        summary="The recipient clicked a link in an email.",
        call_fields=_EMAIL_ACTOR,
    ),
    EventSpec(
        "Email Marked as Spam",
        "email",
        _EMAIL,
        required=("email_id",),
        reference="email_event_marked_as_spam",
        summary="The recipient reported an email as spam.",
        call_fields=_EMAIL_ACTOR,
    ),
    EventSpec(
        "Email Unsubscribed",
        "email",
        {
            **_EMAIL,
            "list_id": _str("Mailing list left."),
            "list_name": _str("Name of the mailing list left."),
        },
        required=("email_id",),
        reference="email_event_unsubscribed",
        summary="The recipient unsubscribed.",
        call_fields=_EMAIL_ACTOR,
    ),
    # Live chat.
    EventSpec(
        "Live Chat Conversation Started",
        "live_chat",
        _LIVE_CHAT,
        reference="live_chat_conversation_started",
        summary="A person began a conversation with an agent.",
    ),
    EventSpec(
        "Live Chat Conversation Ended",
        "live_chat",
        _LIVE_CHAT,
        reference="live_chat_conversation_ended",
        summary="A conversation ended.",
    ),
    EventSpec(
        "Live Chat Message Sent",
        "live_chat",
        _LIVE_CHAT,
        reference="live_chat_message_sent",
        summary="An agent sent a message to the person.",
    ),
    EventSpec(
        "Live Chat Message Received",
        "live_chat",
        _LIVE_CHAT,
        reference="live_chat_message_received",
        summary="A message arrived from the person.",
    ),
    # Mobile app lifecycle.
    EventSpec(
        "Application Installed",
        "mobile",
        _APP_VERSION,
        reference="app_installed",
        summary="First open of the app after installation.",
        journeys_action="createUpdateDevice",
        journeys_needs=_DEVICE,
    ),
    EventSpec(
        "Application Opened",
        "mobile",
        {
            "from_background": _bool("True when the app came back from the background."),
            "url": _str("Launch URL (iOS only)."),
            **_APP_VERSION,
        },
        reference="app_opened",
        summary="The app was opened, after the first time.",
        journeys_action="createUpdateDevice",
        journeys_needs=_DEVICE,
    ),
    EventSpec(
        "Application Backgrounded",
        "mobile",
        {},
        reference="app_backgrounded",
        summary="The app went to the background.",
    ),
    EventSpec(
        "Application Foregrounded",
        "mobile",
        {},
        reference="app_foregrounded",
        summary="The app came back from the background.",
    ),
    EventSpec(
        "Application Updated",
        "mobile",
        {
            "previous_version": _str("Version before the update."),
            "previous_build": _str("Build before the update."),
            **_APP_VERSION,
        },
        reference="app_updated",
        summary="First open of the app after an update.",
    ),
    EventSpec(
        "Application Uninstalled",
        "mobile",
        {},
        reference="app_uninstalled",
        summary="The app was removed from the device.",
        journeys_action="deleteDevice",
        # The destination's delete action needs the owner and the token only.
        journeys_needs={k: v for k, v in _DEVICE.items() if k != "context.device.type"},
    ),
    EventSpec(
        "Application Crashed",
        "mobile",
        {},
        reference="app_crashed",
        summary="The app crashed.",
    ),
    # Video.
    EventSpec(
        "Video Playback Started",
        "video",
        {
            "content_asset_ids": _list("string", "Videos queued in this playback."),
            "content_pod_ids": _list("string", "Content pods in this playback."),
            **_PLAYBACK,
        },
        reference="video_playback_started",
        summary="Playback began after the viewer pressed play.",
    ),
    EventSpec(
        "Video Playback Paused",
        "video",
        {**_ONE_CONTENT, **_PLAYBACK},
        reference="video_playback_paused",
        summary="The viewer paused playback.",
    ),
    EventSpec(
        "Video Playback interrupted",
        "video",
        {
            "method": _str("What interrupted playback, such as a device lock."),
            **_ONE_CONTENT,
            **_PLAYBACK,
        },
        reference="video_playback_interrupted",
        summary="Playback stopped because of an error, network loss or similar.",
    ),
    EventSpec(
        "Video Playback Buffer Started",
        "video",
        {**_ONE_CONTENT, **_PLAYBACK},
        reference="video_playback_buffer_started",
        summary="The player began buffering.",
    ),
    EventSpec(
        "Video Playback Buffer Completed",
        "video",
        {**_ONE_CONTENT, **_PLAYBACK},
        reference="video_playback_buffer_completed",
        summary="The player finished buffering.",
    ),
    EventSpec(
        "Video Playback Seek Started",
        "video",
        {**_ONE_CONTENT, **_PLAYBACK},
        reference="video_playback_seek_started",
        summary="The viewer began seeking.",
    ),
    EventSpec(
        "Video Playback Seek Completed",
        "video",
        {**_ONE_CONTENT, **_PLAYBACK},
        reference="video_playback_seek_completed",
        summary="The viewer finished seeking.",
    ),
    EventSpec(
        "Video Playback Resumed",
        "video",
        {**_ONE_CONTENT, **_PLAYBACK},
        reference="video_playback_resumed",
        summary="The viewer resumed after a pause.",
    ),
    EventSpec(
        "Video Playback Completed",
        "video",
        {**_ONE_CONTENT, **_PLAYBACK},
        reference="video_playback_completed",
        summary="A playback session finished.",
    ),
    EventSpec(
        "Video Playback Exited",
        "video",
        {**_ONE_CONTENT, **_PLAYBACK},
        reference="video_playback_exited",
        summary="The viewer left the playback, for instance by leaving the page.",
    ),
    EventSpec(
        "Video Content Started",
        "video",
        _VIDEO_CONTENT,
        reference="video_content_started",
        summary="A piece of content began within a playback.",
    ),
    EventSpec(
        "Video Content Playing",
        "video",
        _VIDEO_CONTENT,
        reference="video_content_playing",
        summary="Periodic heartbeat while content plays.",
    ),
    EventSpec(
        "Video Content Completed",
        "video",
        _VIDEO_CONTENT,
        reference="video_content_completed",
        summary="A piece of content played to its end.",
    ),
    EventSpec(
        "Video Ad Started",
        "video",
        _VIDEO_AD,
        reference="video_ad_started",
        summary="An ad began within a playback.",
    ),
    EventSpec(
        "Video Ad Playing",
        "video",
        _VIDEO_AD,
        reference="video_ad_playing",
        summary="Periodic heartbeat while an ad plays.",
    ),
    EventSpec(
        "Video Ad Completed",
        "video",
        _VIDEO_AD,
        reference="video_ad_completed",
        summary="An ad played to its end.",
    ),
)
