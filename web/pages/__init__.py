"""The HTML pages, one blueprint per audience: public (citizen), auth, staff, admin, history, reports, analyst."""
