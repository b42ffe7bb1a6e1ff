"""The Textual dashboard. It only displays and asks: every rule lives in `domain`, every change
goes through `services`, and nothing here touches SQL."""
