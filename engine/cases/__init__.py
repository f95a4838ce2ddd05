"""Cases: the one façade that changes them (``service``), who may see what (``access``), inboxes, tracking ids, incidents."""
