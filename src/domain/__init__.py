"""The pure core: values and rules. Imports only the standard library, attrs and ports."""
