"""Views: widgets and delegates that only paint and forward what the user does."""
